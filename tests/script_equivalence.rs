//! The Traditional and the Simplified form of a paragraph give identical features and
//! identical probabilities.

mod common;

use stance::bundle::Bundle;
use stance::predict::Analyzer;

/// The same paragraph as Taiwan / Hong Kong papers and as mainland papers would print it.
const PAIRS: &[(&str, &str)] = &[
    (
        "美國商務部宣布擴大對華晶片出口管制，台積電與輝達的軟體及網路業務首當其衝。",
        "美国商务部宣布扩大对华芯片出口管制，台积电与英伟达的软件及网络业务首当其冲。",
    ),
    (
        "國防部表示，解放軍昨日在台海周邊舉行聯合演習，共出動軍機45架次。",
        "国防部表示，解放军昨日在台海周边举行联合演习，共出动军机45架次。",
    ),
    (
        "外交部發言人批評美日勾結遏制中國，污蔑中國「經濟脅迫」是顛倒黑白。",
        "外交部发言人批评美日勾结遏制中国，污蔑中国“经济胁迫”是颠倒黑白。",
    ),
    (
        "川普政府宣布對中國進口商品加徵關稅，兩岸供應鏈與資訊產業受到衝擊。",
        "特朗普政府宣布对中国进口商品加征关税，两岸供应链与信息产业受到冲击。",
    ),
    (
        "日本首相在記者會上強調，美日同盟是印太地區和平與穩定的基石。",
        "日本首相在记者会上强调，美日同盟是印太地区和平与稳定的基石。",
    ),
];

#[test]
fn both_scripts_give_identical_features_and_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    common::train_fixture(&model_dir, &[]);
    let bundle = Bundle::load(&model_dir).unwrap();
    let analyzer = Analyzer::new();
    for (traditional, simplified) in PAIRS {
        let t_tokens = analyzer.tokens(traditional);
        let s_tokens = analyzer.tokens(simplified);
        assert_eq!(t_tokens, s_tokens, "tokens differ for {traditional}");
        let featurizer = &bundle.model.featurizer;
        assert_eq!(
            featurizer.transform(&t_tokens),
            featurizer.transform(&s_tokens)
        );
        assert!(
            featurizer.transform(&t_tokens).nnz() > 0,
            "no known term in {traditional}"
        );
        assert_eq!(
            bundle.model.predict(&t_tokens, 5),
            bundle.model.predict(&s_tokens, 5),
            "predictions differ for {traditional}"
        );
    }
}
